"""How a credential reads to a person: one view model, shown on the public page and in the PDF."""
