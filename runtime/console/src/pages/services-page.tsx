import { api } from "../api";
import { ErrorBox } from "../components/error-box";
import { formatTime } from "../format";
import { href, useLoad } from "../hooks";

/** Services with their handlers and the deployment serving each; every registered deployment. */
export function ServicesPage() {
  const services = useLoad(() => api.services(), "services");
  const deployments = useLoad(() => api.deployments(), "deployments");
  return (
    <section>
      <h1>Services</h1>
      <ErrorBox error={services.error} />
      <table class="services">
        <thead>
          <tr>
            <th>Service</th>
            <th>Kind</th>
            <th>Handlers</th>
            <th>Served by</th>
          </tr>
        </thead>
        <tbody>
          {(services.data ?? []).map((s) => (
            <tr key={s.name}>
              <td>
                <a href={href(["invocations"], { service: s.name })}>{s.name}</a>
              </td>
              <td>{s.kind}</td>
              <td>
                {s.handlers.map((h) => (
                  <span key={h.name} class="handler">
                    {h.name}
                    {h.kind === "shared" ? " (shared)" : ""}
                  </span>
                ))}
              </td>
              <td>{s.deploymentId}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Deployments</h2>
      <ErrorBox error={deployments.error} />
      <table class="deployments">
        <thead>
          <tr>
            <th>Deployment</th>
            <th>Endpoint</th>
            <th>Registered</th>
            <th>Services</th>
          </tr>
        </thead>
        <tbody>
          {(deployments.data ?? []).map((d) => (
            <tr key={d.id}>
              <td>{d.id}</td>
              <td>
                <code>{d.endpoint.kind === "lambda" ? d.endpoint.arn : d.endpoint.url}</code>
              </td>
              <td>{formatTime(d.createdAtMs)}</td>
              <td>{d.services.map((s) => s.name).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
