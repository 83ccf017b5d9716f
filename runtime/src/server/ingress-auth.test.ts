import { apiKeyVerifier, presentedKey } from "./ingress-auth";

describe("ingress API keys", () => {
  const verifier = apiKeyVerifier(["key-one-0123456789", "key-two-0123456789"]);

  it("accepts any configured key as a Bearer token or x-api-key, nothing else", async () => {
    expect(await verifier.verify({ authorization: "Bearer key-one-0123456789" })).toBe(true);
    expect(await verifier.verify({ authorization: "bearer  key-two-0123456789 " })).toBe(true);
    expect(await verifier.verify({ "x-api-key": "key-two-0123456789" })).toBe(true);
    for (const headers of [
      {},
      { authorization: "Bearer key-one-012345678" }, // a prefix
      { authorization: "Bearer key-one-0123456789x" }, // an extension
      { authorization: "Basic key-one-0123456789" },
      { authorization: "key-one-0123456789" },
      { "x-api-key": "" },
      { "x-api-key": "KEY-ONE-0123456789" },
    ]) {
      expect([headers, await verifier.verify(headers)]).toEqual([headers, false]);
    }
  });

  it("reads the Bearer token first, then x-api-key, and never a repeated header", () => {
    expect(presentedKey({ authorization: "Bearer a", "x-api-key": "b" })).toBe("a");
    expect(presentedKey({ authorization: "Basic x", "x-api-key": "b" })).toBe("b");
    expect(presentedKey({ "x-api-key": ["a", "b"] })).toBeUndefined();
  });

  it("refuses to build a verifier without keys (it would let nobody in, silently)", () => {
    expect(() => apiKeyVerifier([])).toThrow(/at least one key/);
  });
});
