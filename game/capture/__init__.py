"""In-game recording, the video encoder, flight logs, headless rendering and replay."""
