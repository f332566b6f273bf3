// The page the browser runs: an unmodified PipecatClient over the WebSocketTransport, with the microphone on.
import { PipecatClient } from "@pipecat-ai/client-js";
import { WavMediaManager, WebSocketTransport } from "@pipecat-ai/websocket-transport";

// Counts the PCM bytes of every AudioRawFrame the transport sends (pipecat.Frame field 2, AudioRawFrame field 3).
let audioBytes = 0;
const varint = (b, i) => { let v = 0, s = 0, c; do { c = b[i++]; v += (c & 0x7f) * 2 ** s; s += 7; } while (c & 0x80); return [v, i]; };
const audioIn = (b) => {
  let i = 0;
  while (i < b.length) {
    let tag; [tag, i] = varint(b, i);
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (wire === 0) { [, i] = varint(b, i); continue; }
    if (wire !== 2) return 0;
    let len; [len, i] = varint(b, i);
    if (field === 2) return audioBytesIn(b.subarray(i, i + len));
    i += len;
  }
  return 0;
};
const audioBytesIn = (b) => {
  let i = 0;
  while (i < b.length) {
    let tag; [tag, i] = varint(b, i);
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (wire === 0) { [, i] = varint(b, i); continue; }
    let len; [len, i] = varint(b, i);
    if (field === 3) return len;
    i += len;
  }
  return 0;
};
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  if (this.readyState === WebSocket.OPEN && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    audioBytes += audioIn(bytes);
  }
  return send.call(this, data);
};

window.runPipecat = async (wsUrl, seconds) => {
  const events = { states: [], transcripts: [], errors: [], botReady: null, serverMessages: 0 };
  const client = new PipecatClient({
    // The browser's own microphone capture (the default media manager loads Daily's bundle from the internet).
    transport: new WebSocketTransport({ mediaManager: new WavMediaManager() }),
    enableMic: true,
    enableCam: false,
    callbacks: {
      onBotReady: (data) => { events.botReady = data; },
      onUserTranscript: (data) => { events.transcripts.push(data); },
      onServerMessage: () => { events.serverMessages++; },
      onError: (message) => { events.errors.push(message); },
      onTransportStateChanged: (state) => { events.states.push(state); },
    },
  });
  await client.connect({ wsUrl });
  events.stateAfterConnect = client.state;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await client.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 500));
  events.audioBytes = audioBytes;
  return events;
};
