/** Schema fields this project adds to Moleculer's: declarative topic consumers (see mixins/topics.mixin.ts). */
import "moleculer-web";
import type { TopicConsumers } from "../mixins/topics.mixin";

declare module "moleculer" {
  interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
    topics?: TopicConsumers<TThis>;
  }
}
