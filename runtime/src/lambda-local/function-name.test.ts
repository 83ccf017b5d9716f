import { functionArn, parseFunctionRef } from "./function-name";

describe("parseFunctionRef", () => {
  it("accepts every form Lambda's Invoke accepts", () => {
    expect(parseFunctionRef("checkout", undefined)).toEqual({ name: "checkout", qualifier: undefined });
    expect(parseFunctionRef("checkout:2", undefined)).toEqual({ name: "checkout", qualifier: "2" });
    expect(parseFunctionRef("checkout", "$LATEST")).toEqual({ name: "checkout", qualifier: "$LATEST" });
    expect(parseFunctionRef("checkout:3", "3")).toEqual({ name: "checkout", qualifier: "3" });
    expect(parseFunctionRef("arn:aws:lambda:eu-west-1:123456789012:function:my_fn-1", undefined)).toEqual({
      name: "my_fn-1",
      qualifier: undefined,
    });
    expect(parseFunctionRef("arn:aws:lambda:us-east-1:000000000000:function:checkout:$LATEST", "")).toEqual({
      name: "checkout",
      qualifier: "$LATEST",
    });
    expect(parseFunctionRef("123456789012:function:checkout:4", undefined)).toEqual({
      name: "checkout",
      qualifier: "4",
    });
  });

  it("refuses invalid names and conflicting qualifiers with InvalidParameterValueException", () => {
    for (const bad of ["", "has space", "a".repeat(65), "a:b:c", "arn:aws:lambda:us-east-1:1:function:x"]) {
      expect(() => parseFunctionRef(bad, undefined)).toThrow(
        expect.objectContaining({ errorType: "InvalidParameterValueException", status: 400 }),
      );
    }
    expect(() => parseFunctionRef("checkout:1", "2")).toThrow(/does not match/);
    expect(() => parseFunctionRef("checkout", "bad qualifier!")).toThrow(/Invalid qualifier/);
  });

  it("builds local ARNs", () => {
    expect(functionArn("checkout")).toBe("arn:aws:lambda:us-east-1:000000000000:function:checkout");
    expect(functionArn("checkout", "7")).toBe("arn:aws:lambda:us-east-1:000000000000:function:checkout:7");
  });
});
