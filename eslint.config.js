// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "reports/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The grading path must run on Windows, macOS and Linux: no local programs (curl, ip, ssh).
    files: ["src/**/*.ts", "checks/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: [
          { name: "child_process", message: "The grading code must not run local programs; use Node APIs or ssh2." },
          { name: "node:child_process", message: "The grading code must not run local programs; use Node APIs or ssh2." },
        ],
      }],
    },
  },
  {
    // The one exception: the balancer's commands when hagrade runs on the balancer itself
    // (Linux only), wrapped as over SSH.
    files: ["src/ssh/local.ts"],
    rules: { "no-restricted-imports": "off" },
  },
);
