import { LATEST_QUALIFIER, functionArn } from "./function-name";
import type { FunctionVersion } from "./function-registry";
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from "./lambda-limits";

/** The capacity provider every managed-instances function is reported on locally. */
export const LOCAL_CAPACITY_PROVIDER_ARN = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:capacity-provider:capstan-local`;

/** The subset of Lambda's FunctionConfiguration the SDK's Get/List operations decode. */
export interface FunctionConfiguration {
  readonly FunctionName: string;
  readonly FunctionArn: string;
  readonly Runtime: string;
  readonly Handler: string;
  readonly CodeSize: number;
  readonly CodeSha256: string;
  readonly Timeout: number;
  readonly MemorySize: number;
  readonly Version: string;
  readonly LastModified: string;
  readonly Environment: { readonly Variables: Readonly<Record<string, string>> };
  readonly State: "Active";
  readonly LastUpdateStatus: "Successful";
  readonly PackageType: "Zip";
  readonly Architectures: readonly string[];
  /** Present for a function on Lambda Managed Instances. */
  readonly CapacityProviderConfig?: {
    readonly LambdaManagedInstancesCapacityProviderConfig: {
      readonly CapacityProviderArn: string;
      readonly PerExecutionEnvironmentMaxConcurrency: number;
    };
  };
}

/**
 * Describes `version` as Lambda does. When addressed as `$LATEST` (or unqualified) the Version is
 * "$LATEST" and the ARN unqualified, exactly as on AWS after "update code + publish": the code is the
 * newest published version's. Callers that must pin a version use ListVersionsByFunction.
 */
export function toFunctionConfiguration(version: FunctionVersion, asLatest: boolean): FunctionConfiguration {
  const perEnvironment = version.config.perExecutionEnvironmentMaxConcurrency;
  return {
    FunctionName: version.name,
    FunctionArn: asLatest ? functionArn(version.name) : functionArn(version.name, version.version),
    Runtime: "nodejs20.x",
    Handler: "index.handler",
    CodeSize: version.codeSizeBytes,
    CodeSha256: version.codeSha256,
    Timeout: version.config.timeoutSeconds,
    MemorySize: version.config.memoryMb,
    Version: asLatest ? LATEST_QUALIFIER : version.version,
    // Lambda's own timestamp format: 2024-01-31T12:00:00.000+0000
    LastModified: new Date(version.lastModifiedEpochMs).toISOString().replace("Z", "+0000"),
    Environment: { Variables: version.config.environment },
    State: "Active",
    LastUpdateStatus: "Successful",
    PackageType: "Zip",
    Architectures: ["x86_64"],
    ...(perEnvironment !== undefined && {
      CapacityProviderConfig: {
        LambdaManagedInstancesCapacityProviderConfig: {
          CapacityProviderArn: LOCAL_CAPACITY_PROVIDER_ARN,
          PerExecutionEnvironmentMaxConcurrency: perEnvironment,
        },
      },
    }),
  };
}
