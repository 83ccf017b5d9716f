/** How `capstan dev` shows a path: as a user reads it best. */
import path from "node:path";

/** Relative below the working directory, else absolute. */
export function displayPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  if (relative === "") return ".";
  const outside = relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return outside ? path.resolve(p) : relative;
}
