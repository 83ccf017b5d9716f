import { Histogram } from "./histogram";

test("buckets are cumulative per label set, with +Inf, sum and count (Prometheus exposition)", () => {
  const h = new Histogram([0.01, 0.1, 1]);
  h.observe({ service: "A" }, 0.005);
  h.observe({ service: "A" }, 0.1); // a bound is inclusive (le)
  h.observe({ service: "A" }, 5);
  h.observe({}, 0.05);

  expect(h.render("latency_seconds")).toEqual([
    'latency_seconds_bucket{service="A",le="0.01"} 1',
    'latency_seconds_bucket{service="A",le="0.1"} 2',
    'latency_seconds_bucket{service="A",le="1"} 2',
    'latency_seconds_bucket{service="A",le="+Inf"} 3',
    'latency_seconds_sum{service="A"} 5.105000',
    'latency_seconds_count{service="A"} 3',
    'latency_seconds_bucket{le="0.01"} 0',
    'latency_seconds_bucket{le="0.1"} 1',
    'latency_seconds_bucket{le="1"} 1',
    'latency_seconds_bucket{le="+Inf"} 1',
    "latency_seconds_sum 0.050000",
    "latency_seconds_count 1",
  ]);
});
