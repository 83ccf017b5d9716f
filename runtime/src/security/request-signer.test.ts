import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { verifyIdentity, parseIdentityPublicKey, type InvokeRequest } from "@capstan/sdk/protocol";
import { encodeRequest } from "../invoker/wire";
import { RequestSigner } from "./request-signer";

const fixtures = join(__dirname, "../../../sdk/src/protocol/fixtures");
const fixture = JSON.parse(readFileSync(join(fixtures, "identity-signed-invoke.json"), "utf8")) as {
  privateKeySeedHex: string;
  publicKey: string;
  nowMs: number;
  signed: string;
};
/** PKCS#8 DER of an Ed25519 key is this prefix and the 32-byte seed. */
const ED25519_PKCS8_PREFIX = "302e020100300506032b657004220420";

describe("RequestSigner", () => {
  test("signs the golden request into exactly the fixture's bytes (Ed25519 is deterministic)", () => {
    const key = createPrivateKey({
      key: Buffer.from(ED25519_PKCS8_PREFIX + fixture.privateKeySeedHex, "hex"),
      format: "der",
      type: "pkcs8",
    });
    const signer = new RequestSigner(key, () => fixture.nowMs);
    const request = JSON.parse(
      readFileSync(join(fixtures, "invoke-every-entry-kind.request.json"), "utf8"),
    ) as InvokeRequest;
    expect(signer.publicKey).toBe(fixture.publicKey);
    expect(encodeRequest(request, signer).toString("utf8")).toBe(fixture.signed);
  });

  test("a generated key round-trips through PEM and signs what the SDK verifies", () => {
    const signer = RequestSigner.fromPem(RequestSigner.generatePem());
    const message = { type: "discover" as const, protocolVersion: 1 as const };
    const body = JSON.parse(encodeRequest(message, signer).toString("utf8")) as unknown;
    expect(verifyIdentity(body, [parseIdentityPublicKey(signer.publicKey)], Date.now())).toEqual(message);
    expect(() => RequestSigner.fromPem("not a key")).toThrow("the identity key is not a PEM private key");
  });
});
