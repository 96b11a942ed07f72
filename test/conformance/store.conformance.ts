/** The store conformance suite: the same tests for the file-backed store and MongoDB (FerretDB). */
import { ServiceBroker } from "moleculer";
import { Collection, type StoreBackend } from "../../lib/store/collection";
import { DuplicateKeyError } from "../../lib/errors";

interface Doc {
  id: string;
  portfolioId: string;
  time: number;
  status: string;
  amount: string;
}

export function storeConformance(name: string, backend: () => StoreBackend): void {
  describe(`store conformance: ${name}`, () => {
    const broker = new ServiceBroker({ logger: false });
    let docs: Collection<Doc>;

    beforeAll(async () => {
      docs = await Collection.open<Doc>(broker, broker.getLogger("test"), backend(), `conformance_${Date.now()}`, [
        { fields: ["portfolioId", "time"] },
        { fields: ["status"] },
      ]);
      for (let i = 0; i < 10; i++) {
        await docs.insert(`d${i}`, { id: `d${i}`, portfolioId: i % 2 ? "odd" : "even", time: 1000 + i, status: i < 3 ? "open" : "filled", amount: `${i}.5` });
      }
    });

    afterAll(async () => {
      await docs.close();
    });

    it("refuses a second document under the same id (the idempotency guard)", async () => {
      await expect(docs.insert("d1", { id: "d1", portfolioId: "x", time: 0, status: "x", amount: "0" })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await docs.insertIfAbsent("d1", { id: "d1", portfolioId: "x", time: 0, status: "x", amount: "0" })).toBe(false);
      expect((await docs.get("d1"))?.portfolioId).toBe("odd");
    });

    it("finds with query operators, sort, limit and offset, without exposing _id", async () => {
      const page = await docs.find({ query: { portfolioId: "even", time: { $lt: 1008 } }, sort: ["-time"], limit: 2, offset: 1 });
      expect(page.map((d) => d.id)).toEqual(["d4", "d2"]);
      expect(page[0]).not.toHaveProperty("_id");
      const working = await docs.find({ query: { status: { $in: ["open", "partially_filled"] } }, sort: ["time"] });
      expect(working.map((d) => d.id)).toEqual(["d0", "d1", "d2"]);
      expect(await docs.count({ status: "filled" })).toBe(7);
      expect((await docs.findOne({ amount: "9.5" }))?.id).toBe("d9");
    });

    it("updates, replaces and removes", async () => {
      await docs.update("d0", { status: "filled" });
      expect((await docs.get("d0"))?.status).toBe("filled");
      await docs.put("d0", { id: "d0", portfolioId: "even", time: 1000, status: "cancelled", amount: "0.5" });
      expect((await docs.get("d0"))?.status).toBe("cancelled");
      await docs.put("new", { id: "new", portfolioId: "p", time: 1, status: "open", amount: "1" });
      expect(await docs.get("new")).toEqual({ id: "new", portfolioId: "p", time: 1, status: "open", amount: "1" });
      await docs.remove({ time: { $lt: 1002 } });
      expect(await docs.get("d1")).toBeUndefined();
      expect(await docs.get("d2")).toBeDefined();
    });
  });
}
