"""The paper's part of the book: hardware trends, the case study, measurements, model growth, training memory."""
