import { generateKeyPairSync, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  IDENTITY_SKEW_SECONDS,
  MAX_IDENTITY_LENGTH,
  formatIdentityPublicKey,
  identityClaims,
  messageDigest,
  parseIdentityPublicKey,
  signIdentity,
  verifyIdentity,
} from "./identity";
import { isProtocolError } from "./errors";
import { createEndpoint } from "../endpoint/endpoint";
import { lambdaHandler } from "../lambda";
import { service } from "../index";

/** Signed by the runtime's signer (runtime/src/security/request-signer.test.ts checks it makes these bytes). */
const fixture = JSON.parse(
  readFileSync(join(__dirname, "fixtures", "identity-signed-invoke.json"), "utf8"),
) as {
  publicKey: string;
  nowMs: number;
  signed: string;
};
const keys = [parseIdentityPublicKey(fixture.publicKey)];
const signed = (): Record<string, unknown> => JSON.parse(fixture.signed) as Record<string, unknown>;

function refusal(message: unknown, nowMs = fixture.nowMs, accepted = keys): string | undefined {
  try {
    verifyIdentity(message, accepted, nowMs);
    return undefined;
  } catch (e) {
    if (!isProtocolError(e) || e.code !== "PROTOCOL_IDENTITY_REJECTED") throw e;
    return e.message;
  }
}

describe("request identity", () => {
  test("the runtime's signed fixture verifies and yields the message without its identity", () => {
    const rest = verifyIdentity(signed(), keys, fixture.nowMs);
    expect(rest).not.toHaveProperty("identity");
    expect(rest.type).toBe("invoke");
  });

  test("unsigned, tampered, re-targeted and foreign-signed messages are refused, each saying why", () => {
    const { identity: _identity, ...unsigned } = signed();
    expect(refusal(unsigned)).toMatch(/not signed/);
    expect(refusal({ ...signed(), invocationId: "inv_1_abcdefghijkl" })).toMatch(/another message body/);
    expect(refusal({ ...signed(), attempt: 99 })).toMatch(/another message body/);
    const jwt = signed().identity as string;
    const [h, p] = jwt.split(".");
    expect(refusal({ ...signed(), identity: `${h}.${p}.${"A".repeat(86)}` })).toMatch(/signature/);
    expect(refusal({ ...signed(), identity: "nope" })).toMatch(/not a JWT/);
    const other = generateKeyPairSync("ed25519").privateKey;
    const otherId = formatIdentityPublicKey(createPublicKey(other));
    const message = { ...unsigned };
    const forged = {
      identity: signIdentity(
        other,
        otherId,
        identityClaims("/invoke/KitchenSink/run", messageDigest(JSON.stringify(message)), fixture.nowMs),
      ),
      ...message,
    };
    expect(refusal(forged)).toMatch(/not among the accepted keys/);
    // The same forgery with the attacker's kid swapped for the runtime's: the signature fails.
    const [, fp, fs] = forged.identity.split(".");
    const [rh] = jwt.split(".");
    expect(refusal({ ...forged, identity: `${rh}.${fp}.${fs}` })).toMatch(/signature/);
  });

  test(`an identity longer than MAX_IDENTITY_LENGTH (${MAX_IDENTITY_LENGTH}) is refused unread`, () => {
    const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const atLimit = `${header}.${"a".repeat(MAX_IDENTITY_LENGTH - header.length - 2)}.`;
    expect(atLimit).toHaveLength(MAX_IDENTITY_LENGTH);
    expect(refusal({ ...signed(), identity: atLimit })).toMatch(/not an EdDSA JWT/);
    expect(refusal({ ...signed(), identity: `${atLimit}a` })).toMatch(/not a JWT/);
  });

  test(`accepts ±${IDENTITY_SKEW_SECONDS} s around the signing time, not beyond`, () => {
    const skewMs = IDENTITY_SKEW_SECONDS * 1000;
    expect(refusal(signed(), fixture.nowMs - skewMs)).toBeUndefined();
    expect(refusal(signed(), fixture.nowMs + skewMs - 1)).toBeUndefined();
    expect(refusal(signed(), fixture.nowMs - skewMs - 1000)).toMatch(/time window/);
    expect(refusal(signed(), fixture.nowMs + skewMs)).toMatch(/time window/);
  });

  test("several keys are accepted at once, so a runtime can rotate its key", () => {
    const old = parseIdentityPublicKey(
      formatIdentityPublicKey(createPublicKey(generateKeyPairSync("ed25519").privateKey)),
    );
    expect(refusal(signed(), fixture.nowMs, [old, ...keys])).toBeUndefined();
    expect(refusal(signed(), fixture.nowMs, [old])).toMatch(/not among the accepted keys/);
    expect(() => parseIdentityPublicKey("capstanpk1_short")).toThrow(TypeError);
  });

  test("an endpoint with keys refuses unsigned messages before running anything; without keys it accepts", async () => {
    let runs = 0;
    const greeter = service({ name: "Greeter", handlers: { greet: async () => ++runs } });
    const configured = createEndpoint(greeter, {
      identityKeys: [fixture.publicKey],
      now: () => fixture.nowMs,
    });
    await expect(configured.handle({ type: "discover", protocolVersion: 1 })).rejects.toMatchObject({
      code: "PROTOCOL_IDENTITY_REJECTED",
    });
    const handler = lambdaHandler(greeter, { identityKeys: [fixture.publicKey] });
    await expect(
      handler({ type: "discover", protocolVersion: 1 }, { getRemainingTimeInMillis: () => 1000 }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/^PROTOCOL_IDENTITY_REJECTED: request identity refused/),
    });
    const open = createEndpoint(greeter, { identityKeys: [] });
    await expect(open.handle({ type: "discover", protocolVersion: 1 })).resolves.toMatchObject({
      type: "discovery",
    });
    expect(runs).toBe(0);
  });
});
