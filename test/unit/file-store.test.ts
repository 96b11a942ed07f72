import { storeConformance } from "../conformance/store.conformance";
import { tempDataDir } from "../helpers/platform";

storeConformance("file (NeDB)", () => ({ kind: "file", dataDir: tempDataDir() }));
