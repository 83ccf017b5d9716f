/** The Lambda adapter that prunes versions, with the client's `send` stubbed (the only place it is). */
import { DeleteFunctionCommand, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { lambdaVersionDeleter } from "./lambda-versions";
import { parseVersionArn } from "./version-arn";

const FN = "arn:aws:lambda:eu-west-1:123456789012:function:checkout";

test("deletes exactly the numbered version, tolerates one already gone, never touches $LATEST", async () => {
  const sent: DeleteFunctionCommand[] = [];
  let gone = false;
  const deleteVersion = lambdaVersionDeleter({
    async send(command) {
      sent.push(command);
      if (gone) throw new ResourceNotFoundException({ message: "not found", $metadata: {} });
      return {};
    },
  });
  await deleteVersion(`${FN}:6`);
  expect(sent[0]!.input).toEqual({ FunctionName: FN, Qualifier: "6" });
  gone = true;
  await expect(deleteVersion(`${FN}:6`)).resolves.toBeUndefined();
  await expect(deleteVersion(`${FN}:$LATEST`)).rejects.toThrow(/not a published version/);
  await expect(deleteVersion(FN)).rejects.toThrow(/not a published version/);
  expect(sent).toHaveLength(2);
});

test("version ARNs parse into function and version; aliases and names do not", () => {
  expect(parseVersionArn(`${FN}:12`)).toEqual({ functionArn: FN, version: "12" });
  expect(parseVersionArn(`${FN}:live`)).toBeUndefined();
  expect(parseVersionArn("checkout:12")).toBeUndefined();
  expect(parseVersionArn("arn:aws-cn:lambda:cn-north-1:123456789012:function:checkout:1")?.version).toBe("1");
});
