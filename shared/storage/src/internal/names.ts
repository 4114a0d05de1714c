/**
 * Names that end up in file names, schema names and Redis keys. Checked once
 * here so no adapter has to quote or escape them.
 */

const serviceName = /^[a-z][a-z0-9-]{0,62}$/;
const queueName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const topicName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const groupName = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** `auth-service`: lower-case letters, digits and dashes, starting with a letter. */
export function assertServiceName(service: string): void {
  if (!serviceName.test(service)) {
    throw new TypeError(
      `Invalid service name ${JSON.stringify(service)}: use lower-case letters, digits and dashes, starting with a letter (at most 63).`,
    );
  }
}

/** The PostgreSQL schema of a service: `auth-service` → `auth_service`. */
export function schemaOf(service: string): string {
  assertServiceName(service);
  return service.replaceAll("-", "_");
}

export function assertQueueName(queue: string): void {
  if (!queueName.test(queue)) {
    throw new TypeError(
      `Invalid queue name ${JSON.stringify(queue)}: use letters, digits, '.', '_' and '-' (at most 200).`,
    );
  }
}

/** Topics may contain dots (`document.indexed`); groups may not, so `bus.<topic>.<group>` is unambiguous. */
export function assertTopicAndGroup(topic: string, group?: string): void {
  if (!topicName.test(topic)) {
    throw new TypeError(
      `Invalid topic ${JSON.stringify(topic)}: use letters, digits, '.', '_' and '-' (at most 100).`,
    );
  }
  if (group !== undefined && !groupName.test(group)) {
    throw new TypeError(
      `Invalid group ${JSON.stringify(group)}: use letters, digits, '_' and '-' (at most 100).`,
    );
  }
}
