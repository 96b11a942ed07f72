import { storeConformance } from "../conformance/store.conformance";
import { mongoUriFor } from "../helpers/infra";

storeConformance("mongodb (FerretDB)", () => ({ kind: "mongo", dataDir: "", mongoUri: mongoUriFor("store") }));
