/** Schema fields this project adds to Moleculer's: declarative topic consumers (see mixins/topics.mixin.ts), route docs (lib/openapi.ts). */
import "moleculer-web";
import type { TopicConsumers } from "../mixins/topics.mixin";
import type { RouteDoc } from "../lib/openapi";

declare module "moleculer" {
  interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
    topics?: TopicConsumers<TThis>;
  }
  /** What a REST route answers, for the OpenAPI document (lib/openapi.ts). */
  interface ActionSchema<TThis> {
    openapi?: RouteDoc;
    /** The action shows or uses the calling trader's own portfolio: the gateway provisions it first. */
    usesOwnPortfolio?: boolean;
  }
}
