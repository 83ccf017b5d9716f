import { loadConfig } from "../config/config";
import {
  DEV_CLUSTER_CHECKPOINT_PORT,
  DEV_CLUSTER_PEER_PORT,
  MAX_DEV_NODES,
  devNodeCount,
  devNodePorts,
} from "./dev-nodes";

test(`--nodes takes 1 to MAX_DEV_NODES (${MAX_DEV_NODES}); absent is one node`, () => {
  expect(devNodeCount(undefined)).toBe(1);
  expect(devNodeCount("1")).toBe(1);
  expect(devNodeCount(String(MAX_DEV_NODES))).toBe(MAX_DEV_NODES);
  for (const bad of [String(MAX_DEV_NODES + 1), "0", "-1", "2.5", "three", "", "3x"]) {
    expect(() => devNodeCount(bad)).toThrow(`must be an integer from 1 to ${MAX_DEV_NODES}`);
  }
});

test("node i listens on each base + i; the default checkpoint and peer bases move apart", () => {
  const plan = devNodePorts(loadConfig({}, {}), 3);
  expect(plan).toEqual([
    {
      nodeId: "node-0",
      ingress: 8080,
      admin: 9070,
      checkpoint: DEV_CLUSTER_CHECKPOINT_PORT,
      peer: DEV_CLUSTER_PEER_PORT,
    },
    {
      nodeId: "node-1",
      ingress: 8081,
      admin: 9071,
      checkpoint: DEV_CLUSTER_CHECKPOINT_PORT + 1,
      peer: DEV_CLUSTER_PEER_PORT + 1,
    },
    {
      nodeId: "node-2",
      ingress: 8082,
      admin: 9072,
      checkpoint: DEV_CLUSTER_CHECKPOINT_PORT + 2,
      peer: DEV_CLUSTER_PEER_PORT + 2,
    },
  ]);
  // One node keeps the single-node defaults.
  expect(devNodePorts(loadConfig({}, {}), 1)[0]).toMatchObject({ checkpoint: 9071, peer: 9072 });
});

test(`the defaults fit MAX_DEV_NODES nodes; configured bases too close are refused, naming them`, () => {
  expect(devNodePorts(loadConfig({}, {}), MAX_DEV_NODES)).toHaveLength(MAX_DEV_NODES);
  const close = loadConfig({}, { CAPSTAN_INGRESS_PORT: "7000", CAPSTAN_ADMIN_PORT: "7002" });
  expect(devNodePorts(close, 2)).toHaveLength(2);
  expect(() => devNodePorts(close, 3)).toThrow(
    /port 7002 would serve both CAPSTAN_INGRESS_PORT \(\+2\) and CAPSTAN_ADMIN_PORT \(\+0\)|port 7002 would serve both CAPSTAN_ADMIN_PORT \(\+0\) and CAPSTAN_INGRESS_PORT \(\+2\)/,
  );
  const onLambda = loadConfig({}, { CAPSTAN_ADMIN_PORT: "9088" });
  expect(() => devNodePorts(onLambda, 3)).toThrow("CAPSTAN_LAMBDA_PORT");
  expect(() => devNodePorts(loadConfig({}, { CAPSTAN_INGRESS_PORT: "65535" }), 2)).toThrow("above 65535");
});
