import { LATEST_QUALIFIER, functionArn } from "./function-name";
import type { FunctionVersion } from "./function-registry";

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
}

/**
 * Describes `version` as Lambda does. When addressed as `$LATEST` (or unqualified) the Version is
 * "$LATEST" and the ARN unqualified, exactly as on AWS after "update code + publish": the code is the
 * newest published version's. Callers that must pin a version use ListVersionsByFunction.
 */
export function toFunctionConfiguration(version: FunctionVersion, asLatest: boolean): FunctionConfiguration {
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
  };
}
