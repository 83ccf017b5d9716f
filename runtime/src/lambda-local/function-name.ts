import { LambdaApiError } from "./lambda-errors";
import { FUNCTION_NAME_PATTERN, LOCAL_ACCOUNT_ID, LOCAL_REGION } from "./lambda-limits";

/** The qualifier that follows the newest published version, like an alias. */
export const LATEST_QUALIFIER = "$LATEST";

/** A function reference as Invoke accepts it, split into name and optional qualifier. */
export interface FunctionRef {
  readonly name: string;
  /** A version number ("3"), `$LATEST`, or undefined for unqualified. */
  readonly qualifier: string | undefined;
}

/** Throws a plain Error naming the rule when `name` is not a valid Lambda function name. */
export function assertValidFunctionName(name: string): void {
  if (!FUNCTION_NAME_PATTERN.test(name)) {
    throw new Error(
      `Invalid function name ${JSON.stringify(name)}: use 1-64 letters, digits, hyphens or underscores`,
    );
  }
}

const ARN_PATTERN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN_PATTERN = /^\d{12}:function:([^:]+)(?::([^:]+))?$/;
const QUALIFIER_PATTERN = /^(\$LATEST|[0-9]{1,10}|[a-zA-Z0-9_-]{1,128})$/;

/**
 * Parses the `{FunctionName}` path segment and `?Qualifier=` the way Lambda does: `name`,
 * `name:qualifier`, partial ARN `123456789012:function:name[:qualifier]` and full ARN. A qualifier in
 * both places must agree.
 *
 * @example
 * parseFunctionRef("arn:aws:lambda:us-east-1:000000000000:function:checkout:2", undefined)
 * // → { name: "checkout", qualifier: "2" }
 */
export function parseFunctionRef(functionName: string, queryQualifier: string | undefined): FunctionRef {
  const match =
    ARN_PATTERN.exec(functionName) ??
    PARTIAL_ARN_PATTERN.exec(functionName) ??
    /^([^:]+)(?::([^:]+))?$/.exec(functionName);
  const name = match?.[1];
  if (name === undefined || !FUNCTION_NAME_PATTERN.test(name)) {
    throw new LambdaApiError("InvalidParameterValueException", `Invalid function name: ${functionName}`);
  }
  const inName = match?.[2];
  const qualifier = queryQualifier === "" ? undefined : queryQualifier;
  if (inName !== undefined && qualifier !== undefined && inName !== qualifier) {
    throw new LambdaApiError(
      "InvalidParameterValueException",
      "The derived qualifier from the function name does not match the specified qualifier.",
    );
  }
  const resolved = inName ?? qualifier;
  if (resolved !== undefined && !QUALIFIER_PATTERN.test(resolved)) {
    throw new LambdaApiError("InvalidParameterValueException", `Invalid qualifier: ${resolved}`);
  }
  return { name, qualifier: resolved };
}

/** The ARN of a function, qualified when `qualifier` is given. */
export function functionArn(name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
