// Usage: node run.mjs <realtime_url> <wav file for the fake microphone> <seconds to stream>
// Bundles page.js, opens it in Debian's headless Chromium (CHROMIUM or /usr/bin/chromium) with a fake microphone fed
// from the WAV file, connects the Pipecat client to the realtime URL, streams for the given time, disconnects, and
// prints what the client saw as one JSON line.
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { fileURLToPath } from "node:url";
import path from "node:path";

const [wsUrl, wav, seconds = "6"] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const bundle = await build({ entryPoints: [path.join(here, "page.js")], bundle: true, format: "iife", write: false, platform: "browser", logLevel: "error" });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
    "--autoplay-policy=no-user-gesture-required",
    // The page and the server are both on loopback; the check would still treat the in-memory page as public.
    "--disable-features=LocalNetworkAccessChecks",
  ],
});
try {
  const page = await browser.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  // The page is served from memory at the server's own address: a loopback origin is a secure context (getUserMedia
  // works) and a local one (Chromium's local-network-access checks let it reach the server).
  const origin = new URL(wsUrl.replace(/^ws/, "http")).origin;
  await page.route(origin + "/pipecat-e2e.html", (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><html><body><script>" + bundle.outputFiles[0].text.replace(/<\/script/g, "<\\/script") + "</script></body></html>" }));
  await page.goto(origin + "/pipecat-e2e.html");
  let result;
  try {
    result = await Promise.race([
      page.evaluate(([url, s]) => window.runPipecat(url, s), [wsUrl, Number(seconds)]),
      new Promise((_, reject) => setTimeout(() => reject(new Error("the Pipecat client did not finish within 60 s")), Number(seconds) * 1000 + 60_000)),
    ]);
  } catch (error) {
    console.log(JSON.stringify({ failed: String(error), logs }));
    process.exitCode = 1;
  }
  if (result) {
    result.logs = logs.slice(-20);
    console.log(JSON.stringify(result));
  }
} finally {
  await browser.close();
}
