import { createLogger, type Logger } from '../../src/gateway/ops/log.js';

/** A metric sample: `name{a="x",b="y"}` → value. */
export type Samples = Map<string, number>;

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const LABELS = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*,?)?\\}`;
// Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|[+-]?[Ii][Nn][Ff]|[Nn][Aa][Nn])';
const SAMPLE = new RegExp(`^(${NAME})(${LABELS})? (${VALUE})(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/**
 * Parses the Prometheus text exposition format (0.0.4) strictly: every line is a HELP, a TYPE, a
 * sample or empty, a sample's family has a TYPE, and a name is not TYPEd twice. Throws naming the
 * first bad line. Label sets are normalised (sorted) so lookups need not know the order.
 */
export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    const type = TYPE.exec(line);
    if (type) {
      if (types.has(type[1]!)) throw new Error(`${where}: TYPE given twice`);
      types.set(type[1]!, type[2]!);
      return;
    }
    if (HELP.test(line)) return;
    if (line.startsWith('#')) throw new Error(`${where}: not a HELP or TYPE comment`);
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: not a sample`);
    const name = m[1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count|total|created)$/, '');
    if (!types.has(family) && !types.has(name)) throw new Error(`${where}: no TYPE for ${name}`);
    const labels = (m[2] ?? '{}').slice(1, -1);
    const pairs = labels === '' ? [] : (labels.match(new RegExp(`[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}`, 'g')) ?? []);
    const key = `${name}{${pairs.sort().join(',')}}`;
    if (samples.has(key)) throw new Error(`${where}: sample given twice`);
    samples.set(key, Number(m[3]!.replace(/inf$/i, 'Infinity')));
  });
  return samples;
}

/** A sample's value by name and labels (0 when absent: a counter not yet incremented). */
export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const pairs = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  return samples.get(`${name}{${pairs.join(',')}}`) ?? 0;
}

/** A logger writing JSON lines into memory (every level), and the lines parsed. */
export function memoryLog(): { logger: Logger; lines: string[]; records(): Record<string, any>[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l)) };
}
