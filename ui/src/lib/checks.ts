// Plain-language explanations of the checks a certificate verification runs.

export interface Explained {
  title: string;
  means: string;
}

const EXPLAIN: [RegExp, Explained][] = [
  [/^signature$/, {
    title: "Signed by a trusted key",
    means: "The certificate's statement carries a signature by one of the keys this ledger trusts, so it was issued by their holder and not changed since.",
  }],
  [/^checkpoint binding$/, {
    title: "Issued against this checkpoint",
    means: "The signed statement names the very ledger checkpoint the bundle carries, so the evidence belongs to this certificate.",
  }],
  [/^checkpoint$/, {
    title: "Ledger checkpoint is authentic",
    means: "The snapshot of the ledger (its size and Merkle root) is signed by a trusted ledger key.",
  }],
  [/^inclusion$/, {
    title: "Provenance records are in the ledger",
    means: "Every record of the dataset's provenance comes with a Merkle proof that it is in the signed ledger snapshot, unchanged.",
  }],
  [/^closure$/, {
    title: "Provenance is complete and unaltered",
    means: "The provenance records hash to the digest the signed statement names: none was altered, removed, added or reordered.",
  }],
  [/^revocation$/, {
    title: "Not revoked",
    means: "The issuing ledger has recorded no revocation of this certificate since, and its history still extends the certified snapshot.",
  }],
  [/^data /, {
    title: "The data file is the certified data",
    means: "The uploaded file's content fingerprint matches the certified dataset version (a difference names the columns that changed).",
  }],
  [/^disclosure/, {
    title: "A revealed value matches",
    means: "A confidential value revealed alongside the certificate hashes to the commitment the certificate holds.",
  }],
  [/^(chain|upstream|source)/, {
    title: "Upstream certificates hold",
    means: "Sources certified by another organisation carry their own certificates, and those verify too.",
  }],
];

export function explain(check: string): Explained {
  for (const [pattern, text] of EXPLAIN) if (pattern.test(check)) return text;
  return { title: check.charAt(0).toUpperCase() + check.slice(1), means: "" };
}
