/** A trader is provisioned once per gateway process: successes remembered, failures retried, first requests sharing one call. */
import { TraderProvisioning } from "../../lib/auth";

describe("trader provisioning", () => {
  it("provisions each trader once, however many requests come, concurrent ones included", async () => {
    const calls: string[] = [];
    const provisioning = new TraderProvisioning(async (traderId) => {
      calls.push(traderId);
      await new Promise((r) => setTimeout(r, 5));
    });
    await Promise.all([provisioning.ensure("alice"), provisioning.ensure("alice"), provisioning.ensure("bob")]);
    await provisioning.ensure("alice");
    expect(calls).toEqual(["alice", "bob"]);
  });

  it("reports a failed call and tries again on the trader's next request", async () => {
    const calls: string[] = [];
    let riskUp = false;
    const provisioning = new TraderProvisioning(async (traderId) => {
      calls.push(traderId);
      if (!riskUp) throw new Error("risk is not available");
    });
    await expect(provisioning.ensure("alice")).rejects.toThrow("risk is not available");
    await expect(provisioning.ensure("alice")).rejects.toThrow("risk is not available");
    riskUp = true;
    await provisioning.ensure("alice");
    await provisioning.ensure("alice");
    expect(calls).toEqual(["alice", "alice", "alice"]);
  });
});
