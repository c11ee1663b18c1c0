import type { KeyCredential, TokenCredential } from "@azure/core-auth";
import { EventGridPublisherClient } from "@azure/eventgrid";
import type { PatchCloudEvent } from "./eventData";

/** Sends PatchPilot's CloudEvents to the Event Grid topic. */
export interface EventPublisher {
  send(events: readonly PatchCloudEvent[]): Promise<void>;
}

/** Where the topic is and how to reach it. */
export interface EventPublisherConnection {
  endpoint: string;
  /** The app's identity in Azure (the topic has local auth off); the local topic's `aeg-sas-key` locally. */
  credential: TokenCredential | KeyCredential;
  /** PEM of an extra CA to trust (the local topic's self-signed certificate); this client only. */
  ca?: string | undefined;
}

/** An {@link EventPublisher} over `@azure/eventgrid`'s EventGridPublisherClient, CloudEvents 1.0 input schema. */
export function createEventPublisher(connection: EventPublisherConnection): EventPublisher {
  const client = new EventGridPublisherClient(connection.endpoint, "CloudEvent", connection.credential, {
    ...(connection.ca === undefined ? {} : { tlsOptions: { ca: connection.ca } }),
  });
  return {
    async send(events) {
      if (events.length === 0) return;
      await client.send(
        events.map((e) => ({
          type: e.type,
          source: e.source,
          id: e.id,
          time: new Date(e.time),
          subject: e.subject,
          datacontenttype: e.datacontenttype,
          ...(e.dataschema === undefined ? {} : { dataschema: e.dataschema }),
          data: e.data,
        })),
      );
    },
  };
}
