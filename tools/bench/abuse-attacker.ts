import { connect, type Socket } from 'node:net';

/**
 * bench:abuse's attackers, in a process of their own so that their load is not the measuring
 * process's: `node abuse-attacker.js MODE COUNT PORT FIRST_SOURCE SECONDS`.
 *   idle       COUNT connections that send nothing, 10 per source address (127.0.x.y).
 *   keepalive  COUNT connections sending zero-length keep-alives as fast as they can, reconnecting
 *              when dropped.
 *   junk       COUNT connections sending 2048-byte frames of junk, reconnecting when dropped.
 * Every loop is bounded: the process ends by itself after SECONDS.
 */
const [mode, countText, portText, firstSourceText, secondsText] = process.argv.slice(2);
const count = Number(countText);
const port = Number(portText);
const firstSource = Number(firstSourceText);
const until = Date.now() + Number(secondsText) * 1000;
const sockets = new Set<Socket>();
let opened = 0;

/** The source address of connection i: 10 connections per address, from 127.0.(1+)... */
function source(i: number): string {
  const n = firstSource + Math.floor(i / 10);
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

const KEEPALIVES = Buffer.alloc(2 * 256);
const JUNK = Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(2048, 0x5a)]);

function open(i: number): void {
  if (Date.now() > until) return;
  const socket = connect({ host: '127.0.0.1', port, localAddress: source(i) });
  sockets.add(socket);
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.on('connect', () => {
    opened++;
    if (mode === 'idle') return;
    const payload = mode === 'junk' ? JUNK : KEEPALIVES;
    const flood = (): void => {
      while (!socket.destroyed && Date.now() < until && socket.write(payload));
    };
    socket.on('drain', flood);
    flood();
  });
  socket.on('close', () => {
    sockets.delete(socket);
    if (mode !== 'idle') setTimeout(() => open(i), 10);
  });
}

for (let i = 0; i < count; i++) open(i);
const report = setInterval(() => process.stdout.write(`open ${sockets.size} opened ${opened}\n`), 500);
setTimeout(() => {
  clearInterval(report);
  for (const s of sockets) s.destroy();
}, until - Date.now());
