// Find a program on PATH (what a shell would run), without spawning anything.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export function which(program: string, path = process.env.PATH ?? "", extensions = executableExtensions()): string | undefined {
  for (const folder of path.split(delimiter)) {
    if (folder === "") continue;
    for (const extension of extensions) {
      const candidate = join(folder, program + extension);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function executableExtensions(): string[] {
  if (process.platform !== "win32") return [""];
  return ["", ...(process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";").map((e) => e.toLowerCase())];
}
