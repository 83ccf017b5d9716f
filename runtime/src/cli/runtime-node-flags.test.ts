import fs from "node:fs";
import path from "node:path";
import { RUNTIME_NODE_FLAGS } from "./runtime-node-flags";

const ROOT = path.join(__dirname, "..", "..", "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

test("npm start, the runtime image and the bench start the runtime with RUNTIME_NODE_FLAGS", () => {
  const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.start!;
  const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read("infra/runtime-image/Dockerfile"))![1]!;
  const bench = read("bench/src/children.ts");
  for (const flag of RUNTIME_NODE_FLAGS) {
    expect(start).toMatch(new RegExp(`node ${flag} runtime/dist/cli/main\\.js dev`));
    expect(JSON.parse(entrypoint)).toEqual([
      "node",
      ...RUNTIME_NODE_FLAGS,
      "node_modules/@capstan/runtime/bin/capstan.js",
    ]);
    expect(bench).toContain(`"${flag}"`);
  }
});
