import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "./styles.css";

const root = document.getElementById("root");
if (root) {
  createRoot(root, {
    // An error caught by an error boundary is shown on the page; keep the console quiet.
    onCaughtError: (error) => console.warn("Pedigree UI:", error),
  }).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
