/** Routing by the URL's fragment and data that refreshes itself. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** How often live pages reload what they show. */
export const REFRESH_INTERVAL_MS = 2_000;

export interface Route {
  /** Path segments after `#/`, decoded. */
  path: string[];
  query: URLSearchParams;
}

function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = (q === -1 ? raw : raw.slice(0, q)).split("/").filter((s) => s !== "");
  return { path: path.map(decodeURIComponent), query: new URLSearchParams(q === -1 ? "" : raw.slice(q + 1)) };
}

export function href(path: string[], query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") params.set(k, v);
  const qs = params.toString();
  return `#/${path.map(encodeURIComponent).join("/")}${qs === "" ? "" : `?${qs}`}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseHash(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/**
 * Loads on mount and whenever `key` changes; with `live`, again every REFRESH_INTERVAL_MS. A slow
 * answer that arrives after a newer request started is dropped, so the page never goes back in time.
 */
export function useLoad<T>(load: () => Promise<T>, key: string, live = false): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const mine = ++generation.current;
    loadRef.current().then(
      (d) => {
        if (mine !== generation.current) return;
        setData(d);
        setError(undefined);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setError(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }, []);

  useEffect(() => {
    setData(undefined);
    reload();
    if (!live) return undefined;
    const timer = setInterval(reload, REFRESH_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [key, live, reload]);

  return { data, error, reload };
}
