/**
 * The OpenTelemetry resource of everything a node exports (spans and metrics): `service.name`
 * (OTEL_SERVICE_NAME) and `service.instance.id`, the node's id, which tells the nodes of a cluster
 * apart. Prometheus' OTLP receiver (and the collector's Prometheus exporters) turn `service.name` into
 * `job` and `service.instance.id` into `instance`.
 */

/**
 * @example
 * resourceAttributes({ serviceName: "capstan", instanceId: "node-1" })
 * // { "service.name": "capstan", "service.instance.id": "node-1" }
 */
export function resourceAttributes(options: {
  serviceName: string;
  instanceId?: string;
}): Record<string, string> {
  return {
    "service.name": options.serviceName,
    ...(options.instanceId !== undefined && { "service.instance.id": options.instanceId }),
  };
}
