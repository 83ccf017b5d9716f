/** The generator's one reader of the environment. */
export interface CreateConfig {
  /** A directory of `npm pack` tarballs to install Capstan's packages from; absent: the registry. */
  packagesDir?: string;
}

export function loadCreateConfig(env: NodeJS.ProcessEnv = process.env): CreateConfig {
  const dir = env.CAPSTAN_PACKAGES_DIR;
  return dir !== undefined && dir !== "" ? { packagesDir: dir } : {};
}
