/**
 * CDK constructs for Capstan. The AWS deployment (CapstanRuntime on Fargate, DurableFunction) is the
 * subject of a later issue; this package exists so the workspace layout is final.
 */
export const INFRA_VERSION = "0.1.0";
