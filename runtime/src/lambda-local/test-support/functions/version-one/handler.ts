export const handler = async () => ({ code: "one" });
