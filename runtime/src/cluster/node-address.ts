/**
 * Where the other nodes of a cluster reach this node's peer listener (`NodeInfo.address`, published
 * with each heartbeat): CAPSTAN_NODE_ADDRESS when set; else, on ECS/Fargate (awsvpc), the task's
 * private IPv4 address from the container metadata endpoint (ECS_CONTAINER_METADATA_URI_V4), since a
 * listener bound to 0.0.0.0 has no address to give out; else the listener's own URL (one machine).
 */

/** The metadata endpoint is local to the task: it answers fast or not at all. */
export const ECS_METADATA_TIMEOUT_MS = 2_000;
/** A container's metadata is a few KiB; anything larger is not what we asked for. */
export const MAX_ECS_METADATA_BYTES = 256 * 1024;

/**
 * @example
 * await resolveNodeAddress(config.nodeAddress, listenUrl(host, peer.port), peer.port);
 * // "http://10.0.2.106:9072" on Fargate, "http://127.0.0.1:9072" on a laptop
 */
export async function resolveNodeAddress(
  configured: string | undefined,
  listenerUrl: string,
  peerPort: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (configured !== undefined) return configured;
  const metadataUri = env.ECS_CONTAINER_METADATA_URI_V4;
  if (metadataUri === undefined || metadataUri === "") return listenerUrl;
  const ip = await taskIpv4(metadataUri);
  if (ip === undefined)
    throw new Error(
      `could not read this task's IPv4 address from ${metadataUri}: set CAPSTAN_NODE_ADDRESS to the peer listener's URL`,
    );
  return `http://${ip}:${peerPort}`;
}

/** The container's first awsvpc IPv4 address (`Networks[].IPv4Addresses[]`), if the endpoint gives one. */
async function taskIpv4(metadataUri: string): Promise<string | undefined> {
  try {
    const res = await fetch(metadataUri, { signal: AbortSignal.timeout(ECS_METADATA_TIMEOUT_MS) });
    if (!res.ok) return undefined;
    const text = await res.text();
    if (text.length > MAX_ECS_METADATA_BYTES) return undefined;
    const networks = (JSON.parse(text) as { Networks?: Array<{ IPv4Addresses?: unknown }> }).Networks;
    for (const network of Array.isArray(networks) ? networks : []) {
      const addresses = Array.isArray(network?.IPv4Addresses) ? (network.IPv4Addresses as unknown[]) : [];
      const ip = addresses.find((a): a is string => typeof a === "string" && IPV4.test(a));
      if (ip !== undefined) return ip;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
