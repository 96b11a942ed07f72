import { pipelineConformance } from "../conformance/pipeline.conformance";

jest.setTimeout(120000);

pipelineConformance("embedded (in-process log, file store)", () => ({}));
