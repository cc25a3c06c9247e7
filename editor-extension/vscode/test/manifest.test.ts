// The manifest matches the code: every command the extension registers is contributed,
// every setting the extension reads is contributed with a description.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SETTING_KEYS } from "../src/settings";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const source = (name: string) => readFileSync(new URL(`../src/${name}`, import.meta.url), "utf8");

describe("package.json", () => {
  const properties: Record<string, { description?: string; markdownDescription?: string }> =
    manifest.contributes.configuration.properties;

  it("contributes every command the extension registers", () => {
    const registered = [...source("extension.ts").matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]);
    registered.push("copilot.generateTests");
    const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command);
    expect(registered.length).toBeGreaterThan(3);
    for (const command of registered) expect(contributed).toContain(command);
  });

  it("contributes every setting the extension reads, each with a description", () => {
    const read = [...SETTING_KEYS];
    expect(read.length).toBeGreaterThan(8);
    for (const key of read) {
      const property = properties[`copilot.${key}`];
      expect(property, key).toBeDefined();
      expect(property.description ?? property.markdownDescription, key).toBeTruthy();
    }
  });

  it("ships the bundle, not the sources", () => {
    expect(manifest.main).toBe("./dist/extension.js");
    expect(readFileSync(new URL("../.vscodeignore", import.meta.url), "utf8")).toContain("!dist/extension.js");
  });
});
