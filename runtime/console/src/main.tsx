/** The web console: one page app over the admin API, addressed by the URL fragment. */
import { render } from "preact";
import { useState } from "preact/hooks";
import { ApiFailure, api, takeTokenFromFragment } from "./api";
import { ErrorBox } from "./components/error-box";
import { TokenPrompt } from "./components/token-prompt";
import { href, useLoad, useRoute, type Route } from "./hooks";
import { InvocationPage } from "./pages/invocation-page";
import { InvocationsPage } from "./pages/invocations-page";
import { ServicesPage } from "./pages/services-page";
import { SqlPage } from "./pages/sql-page";
import { StateLookup, StatePage } from "./pages/state-page";

const NAV: Array<[label: string, path: string]> = [
  ["Invocations", "invocations"],
  ["Services", "services"],
  ["State", "state"],
  ["SQL", "sql"],
];

function Page({ route }: { route: Route }) {
  const [section, a, b] = route.path;
  switch (section) {
    case undefined:
    case "invocations":
      return a === undefined ? <InvocationsPage route={route} /> : <InvocationPage id={a} />;
    case "services":
      return <ServicesPage />;
    case "state":
      return a !== undefined && b !== undefined ? <StatePage service={a} objectKey={b} /> : <StateLookup />;
    case "sql":
      return <SqlPage />;
    default:
      return <p class="empty">No such page.</p>;
  }
}

function App() {
  const route = useRoute();
  const [tokenTries, setTokenTries] = useState(0);
  // One authenticated read up front: a 401 asks for the token instead of failing every page.
  const probe = useLoad(() => api.services(), String(tokenTries));
  const section = route.path[0] ?? "invocations";
  const unauthorized = probe.error instanceof ApiFailure && probe.error.status === 401;
  return (
    <>
      <header>
        <span class="brand">Capstan</span>
        <nav>
          {NAV.map(([label, path]) => (
            <a key={path} href={href([path])} class={section === path ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {unauthorized ? (
          <TokenPrompt onSaved={() => setTokenTries((n) => n + 1)} />
        ) : probe.error !== undefined ? (
          <ErrorBox error={probe.error} />
        ) : (
          <Page route={route} />
        )}
      </main>
    </>
  );
}

takeTokenFromFragment();
render(<App />, document.getElementById("app")!);
