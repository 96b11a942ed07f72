/** Strategy factory for the prediction engine. */
import { LstmStrategy } from "./lstm";
import { RuleStrategy } from "./rule";
import type { Strategy } from "./types";

export type StrategyName = "rule" | "lstm";

/** "lstm" loads the given model version, the newest when omitted, and fails when none was trained. */
export async function createStrategy(name: StrategyName, opts: { modelDir: string; version?: string }): Promise<Strategy> {
  switch (name) {
    case "rule":
      return new RuleStrategy();
    case "lstm":
      return LstmStrategy.load(opts.modelDir, opts.version);
    default:
      throw new Error(`unknown strategy "${name as string}" (expected "rule" or "lstm")`);
  }
}
