import { listenUrl } from "./listen-url";

test("a wildcard listen address is reached over loopback; others as they are", () => {
  expect(listenUrl("0.0.0.0", 9090)).toBe("http://127.0.0.1:9090");
  expect(listenUrl("::", 9090)).toBe("http://[::1]:9090");
  expect(listenUrl("127.0.0.1", 8080)).toBe("http://127.0.0.1:8080");
  expect(listenUrl("fd00::5", 80)).toBe("http://[fd00::5]:80");
});
