import { Readable, Writable } from "node:stream";
import v8 from "node:v8";
import vm from "node:vm";
import { PackageZip } from "../../../lib/export/packageZip";

// A full GC on demand, to see what the zip still holds (the flag can be set at run time).
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const sink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

describe("PackageZip memory", () => {
  it("lets go of every written entry's stream and captured bytes before the zip ends (only the central directory stays)", async () => {
    const zip = new PackageZip(sink(), { mtime: new Date(0), maxPendingStreams: 4 });
    const sources: WeakRef<object>[] = [];
    const captured: WeakRef<object>[] = [];
    for (let i = 0; i < 200; i++) {
      const source = Readable.from([Buffer.alloc(20_000, i % 256)], { objectMode: false });
      sources.push(new WeakRef(source));
      void zip.addStream(`f/${i}.bin`, source, 1 << 20).then((tap) => {
        if (tap.bytes !== undefined) captured.push(new WeakRef(tap.bytes));
      });
      zip.addBuffer(`f/${i}.json`, Buffer.from(JSON.stringify({ i })));
      await zip.room();
    }
    // Every entry but the last few is written; the zip has not ended, so yazl still holds its entry list.
    await new Promise((resolve) => setTimeout(resolve, 50));
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const alive = (refs: WeakRef<object>[]): number => refs.filter((r) => r.deref() !== undefined).length;
    expect(captured.length).toBeGreaterThan(190);
    expect(alive(sources)).toBeLessThanOrEqual(10);
    expect(alive(captured)).toBeLessThanOrEqual(10);
    expect(await zip.finish()).toEqual({ files: 401 });
  });
});
