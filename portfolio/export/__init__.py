"""The portfolio as a PDF: print templates rendered by WeasyPrint, safely, in the background, cached by content."""
