"""The vendor's accountability records (in ``public``): the personal-data breach register with the
ICO's 72-hour clock, the register of disclosures to third parties on the privacy notice's grounds,
the record of processing (Article 30) generated from the personal-data registry, and the published
versions of the privacy notice shown on every site."""
