import {
  DEFAULT_REGISTRATION_ALLOW,
  isRegistrationAllowed,
  parseRegistrationAllow,
} from "./registration-allow";

const http = (url: string) => ({ kind: "http" as const, url });
const lambda = (arn: string) => ({ kind: "lambda" as const, arn });

describe("registration allow-list", () => {
  it("by default allows loopback HTTP on any port and any Lambda, nothing else", () => {
    const allow = parseRegistrationAllow(DEFAULT_REGISTRATION_ALLOW);
    for (const ok of [
      http("http://127.0.0.1:9080"),
      http("http://localhost:9080/some/path"),
      http("http://[::1]:1234"),
      http("http://127.0.0.1"),
      lambda("checkout:3"),
      lambda("arn:aws:lambda:eu-west-1:123456789012:function:checkout:3"),
    ])
      expect([ok, isRegistrationAllowed(allow, ok)]).toEqual([ok, true]);
    for (const refused of [
      http("http://elsewhere:9080"),
      http("https://127.0.0.1:9080"),
      http("http://169.254.169.254/latest/meta-data"),
      http("http://127.0.0.1.evil.com"),
      http("http://localhost@evil.com:9080"),
      http("http://10.0.0.5"),
    ])
      expect([refused, isRegistrationAllowed(allow, refused)]).toEqual([refused, false]);
  });

  it("matches scheme, host and port with * wildcards, and Lambda names or ARNs by pattern", () => {
    const allow = parseRegistrationAllow([
      "https://*.svc.internal",
      "http://orders:8080",
      "lambda:arn:aws:lambda:*:123456789012:function:shop-*",
    ]);
    expect(isRegistrationAllowed(allow, http("https://a.svc.internal/x"))).toBe(true);
    expect(isRegistrationAllowed(allow, http("https://a.svc.internal:8443"))).toBe(false); // default port only
    expect(isRegistrationAllowed(allow, http("http://a.svc.internal"))).toBe(false);
    expect(isRegistrationAllowed(allow, http("http://orders:8080/"))).toBe(true);
    expect(isRegistrationAllowed(allow, http("http://orders:8081"))).toBe(false);
    expect(
      isRegistrationAllowed(allow, lambda("arn:aws:lambda:us-east-1:123456789012:function:shop-cart:4")),
    ).toBe(true);
    expect(
      isRegistrationAllowed(allow, lambda("arn:aws:lambda:us-east-1:999999999999:function:shop-cart:4")),
    ).toBe(false);
    expect(isRegistrationAllowed(allow, lambda("shop-cart"))).toBe(false);
    expect(isRegistrationAllowed(parseRegistrationAllow(["*"]), http("http://anything"))).toBe(true);
  });

  it("refuses entries it cannot read, naming them", () => {
    for (const bad of ["ftp://x", "127.0.0.1", "http://a/b/c", "lambda:", "http://a:port"]) {
      expect(() => parseRegistrationAllow([bad])).toThrow(JSON.stringify(bad));
    }
  });
});
