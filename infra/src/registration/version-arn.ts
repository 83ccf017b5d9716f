/** Lambda version ARNs as the registration handler reads them: `arn:…:function:name:qualifier`. */

const VERSION_ARN = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,140}):([0-9]+)$/;

export interface VersionArn {
  /** The unqualified function ARN. */
  functionArn: string;
  version: string;
}

/**
 * A published version's ARN, or undefined for anything else ($LATEST, aliases, names).
 *
 * @example
 * parseVersionArn("arn:aws:lambda:eu-west-1:123456789012:function:checkout:7");
 * // → { functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:checkout", version: "7" }
 */
export function parseVersionArn(arn: string): VersionArn | undefined {
  const m = VERSION_ARN.exec(arn);
  return m ? { functionArn: m[1]!, version: m[2]! } : undefined;
}
