export const handler = async () => ({ code: "two" });
