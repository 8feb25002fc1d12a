"""Where each rule comes from: the documents, and a rule's citation of them."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    key: str
    path: str
    title: str


DOCUMENTS = {
    d.key: d
    for d in (
        Document(
            "000", "seeds/000_2827f1c26601b8a5.txt", "Octopusx's img2video docs, official format"
        ),
        Document("001", "seeds/001_901578adfbae38c9.txt", "UModelverse's img2video docs"),
        Document(
            "002", "seeds/002_81254a72e54194ed.txt", "KKIAI's img2video docs (platform.vidu.cn)"
        ),
        Document("003", "seeds/003_b550041c3e68dc05.txt", "Vtrix's Vidu Q1 img2video docs"),
        Document("004", "seeds/004_1e6673e472c9f2ca.txt", "the official start-end2video docs"),
        Document("api", "VIDU-API.md", "the team's summary of the official platform docs"),
        Document(
            "gateways",
            "VIDU-API.md",
            "VIDU-API.md section 3: each gateway's public docs (paths, auth, states, models)",
        ),
        Document("studio", "studio/catalog/", "the studio's own choice; no document says"),
    )
}


@dataclass(frozen=True)
class Source:
    """Where a rule comes from. `note`: what another document says, or why we chose."""

    docs: tuple[str, ...]
    note: str = ""

    def __str__(self) -> str:
        return "[" + ", ".join(self.docs) + "]"

    @property
    def documents(self) -> tuple[Document, ...]:
        return tuple(DOCUMENTS[d] for d in self.docs)

    @property
    def said(self) -> str:
        """The note for people: each "[000]" it cites named by its document's title."""

        def title(match: re.Match) -> str:
            document = DOCUMENTS.get(match[1])
            return document.title if document else match[0]

        return re.sub(r"\[(\w+)\]", title, self.note)

    @property
    def titles(self) -> str:
        """For a tooltip: each document by name, then the note."""
        names = "; ".join(f"{d}: {DOCUMENTS[d].title}" for d in self.docs)
        return f"{names}. {self.note}" if self.note else names


def cite(docs: str, note: str = "") -> Source:
    return Source(tuple(docs.replace(",", " ").split()), note)
