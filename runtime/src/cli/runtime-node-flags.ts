/**
 * The Node.js flags a long-running runtime process is started with: by `npm start`, by the runtime
 * image's entrypoint (infra/runtime-image/Dockerfile) and by the bench, which measures what they
 * run (runtime-node-flags.test.ts keeps the three in step). They are flags of the process, not of
 * the `capstan` CLI: V8 sizes its heap when the process starts.
 *
 * `--max-semi-space-size=8` caps V8's young generation at 8 MB per semi-space. V8 grows it with the
 * allocation rate, up to 16 MB per semi-space (on 64-bit) by default, and a runtime under load
 * allocates fast (requests, journals, write sets): in the scale scenario (500,000 keys, issue 13)
 * the default peaked at 254.7 MB of RSS against the 250 MB target, the cap at 244.0 MB with the
 * same fill rate (bench/README.md, Scale). Scavenges run more often on a smaller young generation;
 * the paired throughput bench runs with the flag on both sides.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
