"""The generation form, one module per job: `fields` (the Vidu parameters from the
catalog), `hints` (what the page says of each field), `uploads` (the images and the
ones kept from an earlier try), `variants` (the plan of videos asked for at once), and
`generation`, the GenerationForm that puts them together."""
