/**
 * The numbers the runtime's AWS deployment is built from. Each is a named constant with a test at
 * the limit (capstan-runtime.test.ts), so a change to one of them is a visible decision.
 */

/** Container and load-balancer listener ports: the runtime's defaults, so logs and docs agree. */
export const INGRESS_PORT = 8080;
export const ADMIN_PORT = 9070;
/** The handler channel's own listener (CAPSTAN_CHECKPOINT_PORT): reachable by Lambdas, not by callers. */
export const CHECKPOINT_PORT = 9071;
/**
 * Node-to-node traffic (forwarding, remote appends; CAPSTAN_PEER_PORT): reachable only from the
 * runtime's own tasks, authenticated by CAPSTAN_CLUSTER_KEY. Not behind the load balancer.
 */
export const PEER_PORT = 9072;

/**
 * The ALB closes a connection idle this long. A checkpoint may long-poll up to the SDK's
 * MAX_CHECKPOINT_WAIT_MS (30 s) before the runtime answers, so the timeout must stay well above it;
 * an ingress call waiting for a handler's result is answered within the same bound.
 */
export const LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = 120;

/**
 * ECS waits this long after SIGTERM before SIGKILL: the time a node has to finish in-flight appends
 * and hand its partitions over. 120 s is the most Fargate allows.
 */
export const STOP_TIMEOUT_SECONDS = 120;
export const MAX_FARGATE_STOP_TIMEOUT_SECONDS = 120;

/**
 * Partition leases (CAPSTAN_LEASE_MS): the runtime's DEFAULT_LEASE_DURATION_MS unless the `leaseMs`
 * prop says otherwise. A stopping node hands its partitions over and leaves; if it cannot, the
 * others take over once its lease lapses. So the stop timeout must cover a whole lease plus the
 * time to finish in-flight appends: at most MAX_LEASE_MS, at least MIN_LEASE_MS (three heartbeats
 * per lease, each a DynamoDB write, must fit).
 */
export const DEFAULT_LEASE_MS = 10_000;
export const MIN_LEASE_MS = 3_000;
/**
 * What the stop timeout keeps besides a lease: the runtime's drains (the requests in flight on its
 * ingress, INGRESS_DRAIN_MS = 6 s, and on its peer listener after the leave, PEER_DRAIN_MS = 1 s,
 * each plus 1 s to flush), in-flight appends and the leave itself.
 */
export const HANDOVER_MARGIN_SECONDS = 30;
export const MAX_LEASE_MS = (STOP_TIMEOUT_SECONDS - HANDOVER_MARGIN_SECONDS) * 1000;

/** At least two tasks, so one node's replacement or crash never leaves the partitions unled. */
export const DEFAULT_DESIRED_COUNT = 2;
export const MIN_DESIRED_COUNT = 1;
export const DEFAULT_MAX_COUNT = 6;
/** One vCPU and 2 GiB per task (Fargate units: 1024 = 1 vCPU, memory in MiB). */
export const DEFAULT_CPU_UNITS = 1024;
export const DEFAULT_MEMORY_MIB = 2048;
/** Scale out when the service's average CPU passes this. */
export const DEFAULT_TARGET_CPU_PERCENT = 60;

/**
 * The partition count is fixed for the life of the log, so the default is generous: DynamoDB gives
 * each partition's append-only tail about 1 MB/s (research: wave2-aws §3.1).
 */
export const DEFAULT_PARTITIONS = 24;
export const MAX_PARTITIONS = 1024;

/** CIDR of the VPC the construct creates when given none. */
export const DEFAULT_VPC_CIDR = "10.0.0.0/16";

/** Readiness: only a node that leads or follows its partitions answers 200 (else 503). */
export const READY_PATH = "/health/ready";

/**
 * The ALB keeps sending a draining task's in-flight requests this long: above the longest checkpoint
 * long-poll, so a task being replaced answers the polls it holds instead of cutting them off.
 */
export const DEREGISTRATION_DELAY_SECONDS = 45;
