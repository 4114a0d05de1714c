import { StatusBoard } from "./status-board";
import { statusUrl } from "./status-client";

export default function StatusPage() {
  const url = statusUrl();
  return (
    <main className="page">
      <noscript>
        <style>{".state-pending { display: none; }"}</style>
        <div className="alert" role="alert">
          <p>
            <strong>This page needs JavaScript.</strong> It loads the live state of every ConHub service from{" "}
            <a href={url}>{url}</a> every few seconds; without JavaScript you can read that JSON directly.
          </p>
        </div>
      </noscript>
      <StatusBoard />
    </main>
  );
}
