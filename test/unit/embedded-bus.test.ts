import { EmbeddedLog } from "../../lib/bus/embedded-log";
import { topicBusConformance } from "../conformance/topic-bus.conformance";

topicBusConformance({
  name: "embedded",
  partitions: 4,
  create: async () => {
    const bus = new EmbeddedLog(4);
    await bus.start();
    return bus;
  },
});
