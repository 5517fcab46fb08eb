"""Fast styles: feed-forward networks that paint a photo in well under a second."""
